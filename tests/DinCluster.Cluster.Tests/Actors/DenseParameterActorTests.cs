using Akka.Actor;
using Akka.TestKit.Xunit2;
using DinCluster.Cluster.Actors;
using DinCluster.Cluster.Protocol;
using DinCluster.Cluster.Tests.Support;
using DinCluster.Core.Optimizers;
using Xunit.Abstractions;

namespace DinCluster.Cluster.Tests.Actors;

/// <summary>The dense actor's replica check: a worker that applies its own gradients to a copy stays equal to the actor.</summary>
public sealed class DenseParameterActorTests : TestKit
{
    private readonly ITestOutputHelper _output;

    public DenseParameterActorTests(ITestOutputHelper output) : base(ActorTestConfig.Create(), output: output) => _output = output;

    private const int Seed = 11;
    private static readonly AdamSettings Adam = new(LearningRate: 0.01f);

    private static float[] RandomArray(Random random, int n) => Enumerable.Range(0, n).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray();

    [Fact]
    public void Dense_actor_confirms_the_replica_when_pushes_name_its_version_and_returns_weights_when_another_writer_came_between()
    {
        _output.WriteLine($"seed {Seed}");
        var random = new Random(Seed);
        var dense = Sys.ActorOf(DenseParameterActor.Props(Adam, bsp: false));
        dense.Tell(new InitDenseWeights(RandomArray(random, 257)));
        ExpectMsg<DenseWeights>();
        dense.Tell(new GetDenseState(-1));
        var state = ExpectMsg<DenseStateSnapshot>();
        var replica = DenseParameters.Import(new DenseState(state.AdamStep, state.Values, state.M, state.V), Adam);

        // One writer: every push names the replica's version; the worker applies the same step; the actor confirms with its checksum.
        for (var batch = 1L; batch <= 5; batch++)
        {
            var gradient = RandomArray(random, 257);
            dense.Tell(new PushDenseGradients(batch, batch, 0, 8, gradient, true, replica.Step, 0));
            Assert.True(replica.Apply(gradient));
            var reply = ExpectMsg<DenseGradientsApplied>();
            Assert.True(reply.ReplicaInSync, $"push {batch} not in sync");
            Assert.Empty(reply.Weights);
            Assert.Equal(replica.Step, reply.Version);
            Assert.Equal(DenseChecksum.Of(replica.Values), reply.Checksum);
        }

        // A second writer (no replica) moves the actor on; the first worker's next push is out of sync and gets the weights.
        dense.Tell(new PushDenseGradients(100, 6, 1, 8, RandomArray(random, 257), true, -1, 0));
        var other = ExpectMsg<DenseGradientsApplied>();
        Assert.False(other.ReplicaInSync);
        Assert.Equal(257, other.Weights.Length);
        var late = RandomArray(random, 257);
        dense.Tell(new PushDenseGradients(6, 6, 0, 8, late, true, replica.Step, 0));
        replica.Apply(late);
        var stale = ExpectMsg<DenseGradientsApplied>();
        Assert.False(stale.ReplicaInSync);
        Assert.Equal(PushOutcome.Applied, stale.Outcome);
        Assert.NotEqual(DenseChecksum.Of(replica.Values), DenseChecksum.Of(stale.Weights));
        Assert.Equal(7, stale.Version);
    }

    [Fact]
    public void Dense_actor_reports_out_of_sync_when_a_batch_is_pushed_twice()
    {
        var random = new Random(Seed);
        var dense = Sys.ActorOf(DenseParameterActor.Props(Adam, bsp: false));
        dense.Tell(new InitDenseWeights(RandomArray(random, 16)));
        ExpectMsg<DenseWeights>();
        var gradient = RandomArray(random, 16);
        dense.Tell(new PushDenseGradients(1, 1, 0, 8, gradient, true, 0, 0));
        Assert.True(ExpectMsg<DenseGradientsApplied>().ReplicaInSync);
        // The replica applied the batch again (a re-issued batch); the actor did not, so the versions part.
        dense.Tell(new PushDenseGradients(1, 2, 0, 8, gradient, true, 1, 0));
        var dup = ExpectMsg<DenseGradientsApplied>();
        Assert.Equal(PushOutcome.Duplicate, dup.Outcome);
        Assert.False(dup.ReplicaInSync);
        Assert.Equal(16, dup.Weights.Length);
    }

    [Fact]
    public void Dense_actor_refuses_pushes_of_an_older_generation_after_a_restore()
    {
        var random = new Random(Seed);
        var dense = Sys.ActorOf(DenseParameterActor.Props(Adam, bsp: false));
        dense.Tell(new InitDenseWeights(RandomArray(random, 16)));
        ExpectMsg<DenseWeights>();
        dense.Tell(new GetDenseState(-1));
        var state = ExpectMsg<DenseStateSnapshot>();
        dense.Tell(new RestoreDenseState(0, state.AdamStep, state.Values, state.M, state.V, 1));
        ExpectMsg<DenseStateRestored>();
        dense.Tell(new PushDenseGradients(1, 1, 0, 8, RandomArray(random, 16), true, -1, 0));
        var stale = ExpectMsg<DenseGradientsApplied>();
        Assert.Equal(PushOutcome.Stale, stale.Outcome);
        Assert.Equal(0, stale.Version);
        Assert.Equal(state.Values, stale.Weights);
        dense.Tell(new PushDenseGradients(1, 1, 0, 8, RandomArray(random, 16), true, -1, 1));
        var applied = ExpectMsg<DenseGradientsApplied>();
        Assert.Equal((PushOutcome.Applied, 1L, 1L), (applied.Outcome, applied.Version, applied.Generation));
    }

    [Fact]
    public void Dense_checksum_changes_when_one_bit_of_one_value_flips()
    {
        var values = RandomArray(new Random(Seed), 1000);
        var before = DenseChecksum.Of(values);
        Assert.Equal(before, DenseChecksum.Of((float[])values.Clone()));
        values[500] = BitConverter.Int32BitsToSingle(BitConverter.SingleToInt32Bits(values[500]) ^ 1);
        Assert.NotEqual(before, DenseChecksum.Of(values));
    }
}
