namespace DinCluster.Cli.Tests.Support;

/// <summary>Tests that train a model share libtorch's process-wide state (thread count): one at a time.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class TorchCollection
{
    public const string Name = "Torch";
}
