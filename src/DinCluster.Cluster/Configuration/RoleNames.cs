using DinCluster.Cluster.Protocol;

namespace DinCluster.Cluster.Configuration;

/// <summary>Akka cluster role strings of <see cref="NodeRole"/>.</summary>
public static class RoleNames
{
    public const string Coordinator = "coordinator";
    public const string Worker = "worker";
    public const string ParameterServer = "ps";
    public const string DataShard = "data";

    public static string Of(NodeRole role) => role switch
    {
        NodeRole.Coordinator => Coordinator,
        NodeRole.Worker => Worker,
        NodeRole.ParameterServer => ParameterServer,
        NodeRole.DataShard => DataShard,
        _ => throw new ArgumentOutOfRangeException(nameof(role), role, null),
    };

    public static NodeRole Parse(string name) => name switch
    {
        Coordinator => NodeRole.Coordinator,
        Worker => NodeRole.Worker,
        ParameterServer => NodeRole.ParameterServer,
        DataShard => NodeRole.DataShard,
        _ => throw new FormatException($"role is set to '{name}', must be one of coordinator, worker, ps, data"),
    };
}
