"""Service-center pages, announcements, the guestbook, product reviews and the newsletter."""
