import FoundationEssentials
import MSSClampRules

extension Health {
    /// The verdict on the workers publishing in `stateDirectory`, from everything it depends
    /// on read now: their state files, the kernel's queue counters, and the rules in the
    /// firewall (the worker's own backend unless `backend` names one; neither: detected).
    /// `status` prints it and `doctor` starts from it. A firewall that cannot be read is in
    /// `rulesError`, and the verdict says what it could not look at.
    public static func gather(stateDirectory: String, backend: Backend? = nil) async -> Health {
        let workers = StatusStore(directory: stateDirectory).read()
        let worker = workers.first
        var options = SteeringOptions(queues: (worker?.queues.first ?? 0)...(worker?.queues.last ?? 0))
        options.hooks = worker?.hooks ?? [.forward]
        let chosen = await Backend.resolve(backend ?? worker?.backend)
        var rules: RulesObservation?
        var rulesError: String?
        do {
            rules = try await chosen.firewall(options).observe()
        } catch {
            rulesError = error.description
        }
        return Health(
            Inputs(
                workers: workers, kernelQueues: KernelQueueStats.readIfPermitted(), rules: rules, rulesError: rulesError,
                now: Date().timeIntervalSince1970, isAlive: StatusStore.isAlive, stateDirectory: stateDirectory))
    }
}
