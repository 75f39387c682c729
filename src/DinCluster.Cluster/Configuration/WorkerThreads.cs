namespace DinCluster.Cluster.Configuration;

/// <summary>
/// libtorch intra-op threads of a worker when neither --threads nor the job sets them: the cores
/// shared by the process's workers (at least 1), split among each worker's lanes. Lanes are
/// independent threads, so the node's actors (PS shards, data shards, remoting) preempting one
/// of them delays only that slice, not a whole parallel region: the cores are given to the lanes
/// and none is held back for the actors (measured on 2 cores, README Figures).
/// </summary>
public static class WorkerThreads
{
    public static int Default(int workersInProcess) =>
        Math.Max(1, Environment.ProcessorCount / Math.Max(1, workersInProcess));

    /// <summary>Threads of each of <paramref name="lanes"/> lanes out of a worker's <paramref name="threads"/> (at least 1).</summary>
    public static int PerLane(int threads, int lanes) => Math.Max(1, threads / Math.Max(1, lanes));
}
