"""Server-rendered pages: the employee portal and the security team's console."""
