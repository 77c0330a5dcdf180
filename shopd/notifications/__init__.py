"""Customer e-mails: written to an outbox with the change, sent over SMTP by a worker."""
