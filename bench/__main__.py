"""``python -m bench``: the same as ``bench/run`` once the environments exist."""

from bench.suite import main

raise SystemExit(main())
