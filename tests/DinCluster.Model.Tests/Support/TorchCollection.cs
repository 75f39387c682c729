namespace DinCluster.Model.Tests.Support;

/// <summary>Every test that touches libtorch runs in this one collection: threads and dtype defaults are process-global.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class TorchCollection
{
    public const string Name = "torch";
}
