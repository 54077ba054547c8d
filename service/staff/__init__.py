"""Staff: accounts, the team (invitations, roles), the dashboard's figures, housekeeping, the
site settings page and the sample content of a fresh install."""
