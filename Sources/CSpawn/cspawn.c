/* filled in by the process-control work */
