"""Pure logic: no I/O, no clock, no framework. Everything here is a function of its inputs."""
