"""Mail that comes in: reading one message (is it automatic, what did the person write) and the
LMTP/SMTP server and Maildir it arrives through. No domain knowledge: what a message means is
for the caller (comments/email_replies)."""

from service.mail.inbound.reading import Incoming, read, recipients

__all__ = ["Incoming", "read", "recipients"]
