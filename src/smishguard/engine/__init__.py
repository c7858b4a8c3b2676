"""Pure-Python detection engines (no Django): domains, sms, ct."""
