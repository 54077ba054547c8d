"""The admin side's blueprints: dashboard and mailbox, desk, newsletter, settings, webhooks,
staff."""
