using DinCluster.Core.Batches;
using DinCluster.Core.Features;
using DinCluster.Model.Networks;
using DinCluster.Model.Tests.Support;
using Xunit.Abstractions;

namespace DinCluster.Model.Tests.Networks;

/// <summary>
/// TorchSharp hands only a handle of a temporary Scalar to libtorch; if the GC finalizes the
/// temporary during the native call, the step fails at random ("toFloat ... Expected false to be
/// true"). This soak forces collections and finalizers while steps run, so such a regression
/// fails here rather than hours into a training job.
/// </summary>
[Collection(TorchCollection.Name)]
public sealed class NativeLifetimeTests(ITestOutputHelper output)
{
    [Fact]
    public async Task TrainStep_never_fails_when_the_gc_runs_finalizers_during_native_calls()
    {
        const int seed = 17, steps = 400;
        output.WriteLine($"seed {seed}, {steps} steps");
        var schema = FeatureSchema.Default(dim: 8, maxLen: 12);
        var settings = new ModelSettings { AttentionHidden = [8, 4], MlpHidden = [8, 4], AttentionActivation = Activation.Dice, AttentionSoftmax = true };
        using var net = new DinNetwork(schema, settings);
        var batch = TestData.Random(schema, [3, 0, 7, 12, 5, 1, 9, 2], seed, items: 30, categories: 5, users: 4);
        var index = BatchIndex.Build(batch, schema);
        var rows = TestData.Rows(schema, index, seed);

        using var stop = new CancellationTokenSource();
        var collector = Task.Run(() =>
        {
            long collections = 0;
            while (!stop.IsCancellationRequested)
            {
                GC.Collect();
                GC.WaitForPendingFinalizers();
                collections++;
            }
            return collections;
        });
        try
        {
            for (var i = 0; i < steps; i++)
            {
                var result = net.TrainStep(batch, index, rows);
                Assert.True(float.IsFinite(result.Loss), $"step {i}: loss {result.Loss}");
                _ = net.Evaluate(batch, index, rows);
            }
        }
        finally
        {
            stop.Cancel();
        }
        output.WriteLine($"{await collector} forced collections during the steps");
    }
}
