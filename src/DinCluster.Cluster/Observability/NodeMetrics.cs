using Akka.Actor;
using Akka.Cluster;
using DinCluster.Cluster.Configuration;

namespace DinCluster.Cluster.Observability;

/// <summary>
/// One node's instruments in <see cref="MetricsRegistry.Process"/>, every series labelled with the
/// node's address (<c>node="host:port"</c>); role actors add <c>actor="worker-0"</c> (several may
/// share a node) and the PS its <c>shard</c>. An Akka extension: <c>NodeMetrics.Get(Context.System)</c>.
/// Cluster membership is read at scrape time from this node's view of the cluster. The node's
/// series leave the registry when its ActorSystem terminates.
/// </summary>
public sealed class NodeMetrics : IExtension
{
    private readonly MetricsRegistry _registry;
    private readonly HashSet<(string Role, string Status)> _memberSeries = [];

    public NodeMetrics(ExtendedActorSystem system, MetricsRegistry registry)
    {
        _registry = registry;
        var address = system.Provider.DefaultAddress;
        Node = address?.Host is { } host ? $"{host}:{address.Port}" : system.Name;
        Roles = system.Settings.Config.GetStringList("akka.cluster.roles", []).ToArray();
        registry.Gauge("din_node_info", "1 per node; its address, roles and actor system name",
            ("node", Node), ("roles", Roles.Count == 0 ? "-" : string.Join(',', Roles)), ("system", system.Name)).Set(1);
        if (system.Provider is IClusterActorRefProvider) registry.AddCollector(this, () => CollectMembers(Akka.Cluster.Cluster.Get(system)));
        system.WhenTerminated.ContinueWith(_ =>
        {
            registry.RemoveCollector(this);
            registry.RemoveSeries("node", Node);
        }, TaskScheduler.Default);
    }

    /// <summary>"host:port" of this node (the actor system's name when it has no remote address).</summary>
    public string Node { get; }

    public IReadOnlyList<string> Roles { get; }

    public static NodeMetrics Get(ActorSystem system) => system.WithExtension<NodeMetrics, NodeMetricsProvider>();

    // ---- worker
    public Counter SamplesTrained(string actor) => _registry.Counter("din_samples_trained_total", "Training samples whose gradients were applied (per worker)", L(actor));
    public Counter Steps(string actor) => _registry.Counter("din_steps_total", "Training steps completed (per worker)", L(actor));
    public Counter DenseReplicaSteps(string actor) => _registry.Counter("din_dense_replica_steps_total", "Steps computed on the worker's dense replica, confirmed equal by the dense actor (per worker)", L(actor));
    public Histogram StepSeconds(string actor) => _registry.Histogram("din_step_seconds", "Train step compute time: forward, backward, gradients (per worker)", Histogram.SecondsBuckets, L(actor));
    public Histogram PullSeconds(string actor) => _registry.Histogram("din_pull_seconds", "From a batch's pull requests to its last row reply (per worker)", Histogram.SecondsBuckets, L(actor));
    public Counter PullBytes(string actor) => _registry.Counter("din_pull_bytes_total", "Embedding row bytes (ids and floats) received from PS shards (per worker)", L(actor));
    public Histogram PushSeconds(string actor) => _registry.Histogram("din_push_seconds", "From a step's gradient pushes to the last apply reply (per worker)", Histogram.SecondsBuckets, L(actor));
    public Counter PushBytes(string actor) => _registry.Counter("din_push_bytes_total", "Gradient bytes (ids, row and dense floats) pushed (per worker)", L(actor));
    public Gauge PrefetchQueue(string actor) => _registry.Gauge("din_worker_queue_batches", "Batches received and not yet started (per worker)", L(actor));

    // ---- PS shard
    public Gauge PsRows(int shard) => _registry.Gauge("din_ps_rows", "Embedding rows held (per PS shard)", S(shard));
    public Gauge PsBytes(int shard) => _registry.Gauge("din_ps_memory_bytes", "Memory of the shard's tables: slabs, row metadata, id map, sketch (per PS shard)", S(shard));
    public Gauge PsEvictions(int shard) => _registry.Gauge("din_ps_evictions", "Rows evicted since the shard started, TTL and row cap (per PS shard)", S(shard));
    public Counter PsRowsPulled(int shard) => _registry.Counter("din_ps_rows_pulled_total", "Rows served to pulls (per PS shard)", S(shard));
    public Counter PsPushesApplied(int shard) => _registry.Counter("din_ps_pushes_applied_total", "Gradient pushes applied (per PS shard)", S(shard));

    // ---- data shard
    public Gauge DataCredit(string actor) => _registry.Gauge("din_data_outstanding_credit", "Batches workers asked for and were not yet sent (per data shard)", L(actor));
    public Gauge DataInFlight(string actor) => _registry.Gauge("din_data_batches_in_flight", "Batches issued and not yet acked (per data shard)", L(actor));
    public Gauge DataPending(string actor) => _registry.Gauge("din_data_batches_pending", "Batches of this epoch not yet issued (per data shard)", L(actor));

    // ---- coordinator (the job)
    public Gauge JobEpoch => _registry.Gauge("din_job_epoch", "Epoch being trained (0 before the first)", L());
    public Gauge JobSteps => _registry.Gauge("din_job_steps", "Steps trained by the job", L());
    public Gauge JobSamples => _registry.Gauge("din_job_samples", "Samples trained by the job", L());
    public Gauge JobLastLoss => _registry.Gauge("din_job_last_loss", "Training loss of the last step", L());
    public Gauge JobRunning => _registry.Gauge("din_job_running", "1 while the coordinator trains, 0 once finished", L());

    private (string, string)[] L() => [("node", Node)];
    private (string, string)[] L(string actor) => [("node", Node), ("actor", actor)];
    private (string, string)[] S(int shard) => [("node", Node), ("shard", shard.ToString(System.Globalization.CultureInfo.InvariantCulture))];

    /// <summary>din_cluster_members{role,status} and din_cluster_unreachable_members as this node sees the cluster.</summary>
    private void CollectMembers(Akka.Cluster.Cluster cluster)
    {
        var state = cluster.State;
        var counts = new Dictionary<(string Role, string Status), int>();
        foreach (var m in state.Members)
            foreach (var role in m.Roles.DefaultIfEmpty("-"))
            {
                var key = (role, m.Status.ToString().ToLowerInvariant());
                counts[key] = counts.GetValueOrDefault(key) + 1;
            }
        lock (_memberSeries)
        {
            _memberSeries.UnionWith(counts.Keys);
            foreach (var key in _memberSeries)
                _registry.Gauge("din_cluster_members", "Cluster members by role and status, as this node sees them",
                    ("node", Node), ("role", key.Role), ("status", key.Status)).Set(counts.GetValueOrDefault(key));
        }
        _registry.Gauge("din_cluster_unreachable_members", "Members this node's failure detector marks unreachable", L()).Set(state.Unreachable.Count);
    }
}

/// <summary>Creates <see cref="NodeMetrics"/> over <see cref="MetricsRegistry.Process"/>.</summary>
public sealed class NodeMetricsProvider : ExtensionIdProvider<NodeMetrics>
{
    public override NodeMetrics CreateExtension(ExtendedActorSystem system) => new(system, MetricsRegistry.Process);
}
