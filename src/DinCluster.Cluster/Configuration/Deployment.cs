namespace DinCluster.Cluster.Configuration;

/// <summary>Which overlay of cluster-config/ applies on top of reference.conf.</summary>
public enum Deployment
{
    Simulated,
    MultiProcess,
    Docker,
}
