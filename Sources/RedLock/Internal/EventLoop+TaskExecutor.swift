/// The loop thread as a task executor (`RedLockClient.ioExecutor`). A task that prefers it runs its
/// code between the loop's turns: a round it starts is sent from this thread, and the reply
/// resumes it here, so neither needs another thread woken.
extension EventLoop: TaskExecutor {
    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        let executor = asUnownedTaskExecutor()
        guard execute({ _ in job.runSynchronously(on: executor) }) else {
            // The loop has stopped: the task goes on on Swift's global executor, where its lock
            // calls fail at once with `.clientShutDown`.
            globalConcurrentExecutor.enqueue(ExecutorJob(job))
            return
        }
    }
}
