"""The agent desk: conversation ownership, the queue, agents, and the web console."""
