"""Operations tooling run from the repository, not part of the installed portal: the local
production stack (``make serve``), the load test (``make load``), the sqlmap scan
(``make security``) and the fault drills (``make faults``)."""
