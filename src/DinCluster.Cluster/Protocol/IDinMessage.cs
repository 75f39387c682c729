namespace DinCluster.Cluster.Protocol;

/// <summary>
/// Marker on every message that crosses a node boundary. Bound once, in cluster-config, to
/// <see cref="Serialization.DinSerializer"/>; nothing of ours is ever sent as JSON.
/// </summary>
public interface IDinMessage;
