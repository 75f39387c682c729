using DinCluster.Model.Tests.Support;
using DinCluster.Model.Training;

namespace DinCluster.Model.Tests.Training;

[Collection(TorchCollection.Name)]
public sealed class TorchThreadsTests
{
    [Fact]
    public void Configure_sets_the_intra_op_thread_count_and_rejects_zero()
    {
        var before = TorchThreads.Current;
        try
        {
            TorchThreads.Configure(1);
            Assert.Equal(1, TorchThreads.Current);
            Assert.Throws<ArgumentOutOfRangeException>(() => TorchThreads.Configure(0));
        }
        finally
        {
            TorchThreads.Configure(before);
        }
    }
}
