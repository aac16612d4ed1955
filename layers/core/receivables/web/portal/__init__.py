"""The customer portal: passwordless access by signed link, a session, and the pages."""
