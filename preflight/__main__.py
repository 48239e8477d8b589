from preflight.cli import main

main(prog_name="preflight")
