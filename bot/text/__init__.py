"""Pure text parsing: booking requests, stay notes, order numbers, carriers, names, phones."""
