/** The `weft` command (placeholder until the CLI lands). */
process.stdout.write('weft: the command line is being built\n');
