"""pyinfra deploy entry point (router, firewall, db, app, proxy roles): issues 7 and 8."""
