from idconsole.cli import main

raise SystemExit(main())
