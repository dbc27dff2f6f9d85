"""In-process fakes of upstream services, speaking their real wire formats."""
