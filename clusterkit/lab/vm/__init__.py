"""Virtual boards: the lab's second kind, QEMU machines with their own kernel, systemd and clock."""
