namespace DinCluster.Cluster.Configuration;

/// <summary>
/// How many libtorch threads a worker's lanes get. <see cref="Threads"/> is --threads, a worker's
/// total (0 = automatic); <see cref="WorkersInProcess"/> the workers sharing this process's cores.
/// Automatic: one lane (the default) gets the process's cores but one, shared by its workers, so
/// the node's actors (PS shards, data shards, remoting) do not preempt libtorch's threads in the
/// middle of a parallel region and stall the step (measured on 2 cores, simulated cluster with
/// 1 worker: 1 thread trains ~20 % more samples/s than 2). Several lanes are independent
/// threads, where a preempted lane delays only its slice: they share all the cores (README,
/// Decisions: compute lanes).
/// </summary>
public sealed record WorkerThreads(int Threads, int WorkersInProcess)
{
    public int PerLane(int lanes)
    {
        lanes = Math.Max(1, lanes);
        var workers = Math.Max(1, WorkersInProcess);
        if (Threads > 0) return Math.Max(1, Threads / lanes);
        var cores = Environment.ProcessorCount;
        return lanes == 1 ? Math.Max(1, (cores - 1) / workers) : Math.Max(1, cores / (workers * lanes));
    }
}
