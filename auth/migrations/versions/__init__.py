"""The revisions, oldest first: ``v0001`` adopts a database the previous versions made, then one file a change."""
