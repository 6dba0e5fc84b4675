from localdigest.cli import main

main()
