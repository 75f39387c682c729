using DinCluster.Cluster.Configuration;
using DinCluster.Cluster.Protocol;

namespace DinCluster.Cluster.Hosting;

/// <summary>
/// One node of a multi-process or multi-host cluster, as `dincluster node` describes it.
/// </summary>
/// <param name="Roles">Role actors to start here; a role may repeat (two workers on one node).</param>
/// <param name="Port">0 = any free port (fine unless this node is a seed).</param>
/// <param name="Seeds">Empty = this node is the first seed and joins itself.</param>
/// <param name="Hostname">Address other nodes use; null = cluster-config's dincluster.node.hostname.</param>
/// <param name="ConfigPath">A HOCON file layered over the deployment overlay.</param>
public sealed record NodeOptions(
    IReadOnlyList<NodeRole> Roles,
    int Port,
    IReadOnlyList<NodeAddress> Seeds,
    Deployment Deployment = Deployment.MultiProcess,
    string? Hostname = null,
    string? ConfigPath = null,
    int TorchThreads = 0);
