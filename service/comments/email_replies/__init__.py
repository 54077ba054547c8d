"""Replies by email: a reader answers an issue or digest email and it becomes a comment.

receiving (the one way in: match the signed reply address, sort out automatic mail, store the
reply and, when the reader publishes, its pending comment), publishing (a reply becomes a
comment, or is refused with the reason), choices (the reader's publish-or-private answer and
withdrawing), mails (the one email a reply earns its reader), letters (the writer's inbox of
private replies), privacy (a reply that says it is private).
"""
