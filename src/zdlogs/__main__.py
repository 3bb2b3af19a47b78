from zdlogs.cli import main

main()
