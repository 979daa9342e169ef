"""Learning from traffic: texts the bot failed, labelled by people, into training data."""
