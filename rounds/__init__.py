"""Running crawl rounds: in this process (`rounds.round`), in a child process
per scheduled round (`rounds.process`, `rounds.child`), scheduled command
jobs (`rounds.jobs`) and the log setup they share (`rounds.logs`)."""
