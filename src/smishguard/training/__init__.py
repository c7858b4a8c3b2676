"""Awareness: training modules with a quiz, assignments and compliance (which the gateway enforces), and SMS
phishing simulations that store nothing an employee types and close the loop when the drill is reported."""
