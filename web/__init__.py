"""The curator's desk: a web app to review, fix, cite and publish clippings
(``presscut serve``).  See docs/desk.md."""
