"""Sample builders: generate events, apply the detector response, select, write a file."""
