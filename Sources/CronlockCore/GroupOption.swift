import ArgumentParser

/// `--group G`, shared by a run (`JobOptions`) and the job-control subcommands. One type, so that
/// ArgumentParser hands the value the root parsed to the subcommand (an option declared twice
/// would always go to the root) and the subcommand's help still lists it.
package struct GroupOption: ParsableArguments, Sendable {
    @Option(help: ArgumentHelp("The job's group, for `pause --group` and per-team ACLs: letters, digits, '.', '_', '-'. (default: default)",
                               discussion: "With pause, resume, stop, history, forget: the job's group (default: the group its last run used). With jobs, watch: only that group. pause, resume and forget without --key: the whole group."))
    package var group: String?

    package init() {}
}
