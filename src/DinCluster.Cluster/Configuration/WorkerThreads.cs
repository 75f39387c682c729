namespace DinCluster.Cluster.Configuration;

/// <summary>
/// libtorch intra-op threads of a worker when neither --threads nor the job sets them: the cores
/// but one, shared by the process's workers (at least 1). The spared core runs the node's actors
/// (PS shards, data shards, remoting, serialization), which otherwise preempt libtorch's threads
/// in the middle of a parallel region and stall the step. Measured on 2 cores, simulated cluster
/// with 1 worker: 1 thread trains ~20 % more samples/s than 2 (README, Figures).
/// </summary>
public static class WorkerThreads
{
    public static int Default(int workersInProcess) =>
        Math.Max(1, (Environment.ProcessorCount - 1) / Math.Max(1, workersInProcess));
}
