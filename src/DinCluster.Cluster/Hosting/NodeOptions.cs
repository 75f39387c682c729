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
/// <param name="Tls">TLS files from the command line / environment; null = cluster-config's dincluster.tls.</param>
public sealed record NodeOptions(
    IReadOnlyList<NodeRole> Roles,
    int Port,
    IReadOnlyList<NodeAddress> Seeds,
    Deployment Deployment = Deployment.MultiProcess,
    string? Hostname = null,
    string? ConfigPath = null,
    int TorchThreads = 0,
    TlsFiles? Tls = null);

/// <summary>TLS files as the command line gives them; a null member keeps cluster-config's value.</summary>
public sealed record TlsFiles(string? Certificate, string? Password, string? Ca)
{
    public override string ToString() => $"TlsFiles {{ Certificate = {Certificate}, Ca = {Ca} }}";
}
