namespace DinCluster.Cluster.Tests;

/// <summary>Tests that run libtorch (global thread count, seeds) run one at a time.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class TorchCollection
{
    public const string Name = "libtorch";
}
