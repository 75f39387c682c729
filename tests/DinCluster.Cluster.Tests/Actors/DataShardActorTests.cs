using Akka.Actor;
using Akka.TestKit.Xunit2;
using DinCluster.Cluster.Actors;
using DinCluster.Cluster.Jobs;
using DinCluster.Cluster.Protocol;
using DinCluster.Cluster.Tests.Support;
using Xunit.Abstractions;

namespace DinCluster.Cluster.Tests.Actors;

public sealed class DataShardActorTests : TestKit, IDisposable
{
    private const int Seed = 5;
    private readonly TempDir _dir = new();
    private readonly TrainJob _job;
    private readonly RowGroupRef[] _groups;

    public DataShardActorTests(ITestOutputHelper output) : base(ActorTestConfig.Create(), output: output)
    {
        output.WriteLine($"seed {Seed}");
        var data = Path.Combine(_dir.Path, "data");
        SyntheticData.Write(data, Seed, trainSamples: 200, testSamples: 10, rowGroupSize: 50, trainFiles: 1);
        _job = SyntheticData.Job(data, Path.Combine(_dir.Path, "run"), Seed) with { BatchSize = 20 };
        _groups = Enumerable.Range(0, 4).Select(g => new RowGroupRef(_job.TrainFiles()[0], g, 50)).ToArray();
    }

    private (IActorRef Shard, Akka.TestKit.TestProbe Coordinator) StartShard()
    {
        var coordinator = CreateTestProbe("coordinator");
        var shard = Sys.ActorOf(DataShardActor.Props(coordinator.Ref), "data-0");
        coordinator.ExpectMsg<JoinTraining>(m => m.Role == NodeRole.DataShard);
        shard.Tell(new AssignRowGroups(0, _groups, new TrainOptions(SyncMode.Async, 0, 2, 1 << 20, TrainJobJson.Write(_job))), coordinator.Ref);
        var assigned = coordinator.ExpectMsg<RowGroupsAssigned>();
        Assert.Equal((12L, 200L), (assigned.Batches, assigned.Samples)); // 50 rows / 20 -> 3 batches per group
        shard.Tell(new StartEpoch(1), coordinator.Ref);
        coordinator.ExpectMsg<EpochStarted>(m => m.Epoch == 1 && m.Samples == 200);
        return (shard, coordinator);
    }

    [Fact]
    public void Data_shard_issues_at_most_the_requested_batches_when_a_worker_asks_on_credit()
    {
        var (shard, _) = StartShard();
        var worker = CreateTestProbe("worker");
        shard.Tell(new RequestBatches(0, 2), worker.Ref);
        var a = worker.ExpectMsg<BatchIssued>(TimeSpan.FromSeconds(10), "first batch on credit");
        var b = worker.ExpectMsg<BatchIssued>();
        worker.ExpectNoMsg(TimeSpan.FromMilliseconds(200));
        Assert.NotEqual(a.Batch.BatchId, b.Batch.BatchId);
        shard.Tell(new BatchAcked(a.Batch.BatchId, 0), worker.Ref);
        worker.ExpectNoMsg(TimeSpan.FromMilliseconds(200));
        shard.Tell(new RequestBatches(0, 1), worker.Ref);
        worker.ExpectMsg<BatchIssued>(m => m.Batch.BatchId != a.Batch.BatchId && m.Batch.BatchId != b.Batch.BatchId);
    }

    [Fact]
    public void Data_shard_reissues_unacked_batches_and_completes_exactly_when_a_worker_dies()
    {
        var (shard, coordinator) = StartShard();
        var doomed = CreateTestProbe("doomed-worker");
        shard.Tell(new RequestBatches(0, 3), doomed.Ref);
        var issuedToDoomed = Enumerable.Range(0, 3).Select(_ => doomed.ExpectMsg<BatchIssued>().Batch).ToList();
        var lost = issuedToDoomed.Select(b => b.BatchId).ToList();
        shard.Tell(new BatchAcked(lost[0], 0), doomed.Ref);
        Sys.Stop(doomed.Ref);

        var survivor = CreateTestProbe("survivor");
        // Until the shard sees the death, the lost batches are still out: a request it cannot serve then
        // is answered "no batches left" (the credit stays, and the re-issued batches follow it).
        survivor.IgnoreMessages(m => m is NoBatchesLeft);
        shard.Tell(new RequestBatches(1, 1), survivor.Ref);
        var seen = new List<long>();
        for (var i = 0; i < 11; i++)
        {
            var issued = survivor.ExpectMsg<BatchIssued>(TimeSpan.FromSeconds(10), $"batch {i} for the survivor");
            seen.Add(issued.Batch.BatchId);
            shard.Tell(new BatchAcked(issued.Batch.BatchId, 1), survivor.Ref);
            if (i < 10) shard.Tell(new RequestBatches(1, 1), survivor.Ref);
        }
        // The survivor's first request may be served before the shard sees the death, so order is not fixed.
        Assert.Subset(seen.ToHashSet(), lost.Skip(1).ToHashSet());
        Assert.Equal(seen.Count, seen.Distinct().Count());
        var done = coordinator.ExpectMsg<EpochCompleted>(TimeSpan.FromSeconds(10), "epoch 1 completion");
        Assert.True(done.Exact);
        Assert.Equal(200, done.SamplesConsumed);
        Assert.Equal(issuedToDoomed.Skip(1).Sum(b => b.Count), done.SamplesReplayed);
    }

    [Fact]
    public void Data_shard_says_no_batches_left_when_its_epoch_is_drained()
    {
        var (shard, _) = StartShard();
        var worker = CreateTestProbe("worker");
        shard.Tell(new RequestBatches(0, 20), worker.Ref);
        for (var i = 0; i < 12; i++) worker.ExpectMsg<BatchIssued>();
        worker.ExpectMsg<NoBatchesLeft>(m => m.Epoch == 1);
    }

    [Fact]
    public void Data_shard_stops_on_coordinator_loss_and_reports_what_the_new_coordinators_checkpoint_lacks_as_rolled_back()
    {
        var proxy = CreateTestProbe("proxy");
        var shard = Sys.ActorOf(DataShardActor.Props(proxy.Ref), "data-0");
        proxy.ExpectMsg<JoinTraining>(m => m.Role == NodeRole.DataShard);
        var options = new TrainOptions(SyncMode.Async, 0, 2, 1 << 20, TrainJobJson.Write(_job));
        var old = CreateTestProbe("old-coordinator");
        shard.Tell(new AssignRowGroups(0, _groups, options), old.Ref);
        old.ExpectMsg<RowGroupsAssigned>();
        shard.Tell(new StartEpoch(1), old.Ref);
        old.ExpectMsg<EpochStarted>(m => m.Epoch == 1 && m.BatchesRolledBack == 0);

        var worker = CreateTestProbe("worker");
        shard.Tell(new RequestBatches(0, 4), worker.Ref);
        var acked = Enumerable.Range(0, 4).Select(_ => worker.ExpectMsg<BatchIssued>(TimeSpan.FromSeconds(10), "batches under the old coordinator").Batch).ToList();
        foreach (var b in acked) shard.Tell(new BatchAcked(b.BatchId, 0), worker.Ref);

        // The old coordinator is gone: the shard announces itself again (through the proxy) and issues nothing.
        Sys.Stop(old.Ref);
        proxy.ExpectMsg<JoinTraining>(TimeSpan.FromSeconds(10), "the shard announcing itself after the coordinator loss");
        proxy.IgnoreMessages(m => m is JoinTraining);
        shard.Tell(new RequestBatches(0, 1), worker.Ref);
        worker.ExpectMsg<NoBatchesLeft>();

        // The new coordinator's checkpoint holds the first two acked batches: the other two are trained again.
        var next = CreateTestProbe("new-coordinator");
        shard.Tell(new AssignRowGroups(0, _groups, options), next.Ref);
        next.ExpectMsg<RowGroupsAssigned>();
        shard.Tell(new RestoreEpoch(1, [acked[0].BatchId, acked[1].BatchId], ClearCredit: false), next.Ref);
        var started = next.ExpectMsg<EpochStarted>();
        Assert.Equal(2, started.BatchesRolledBack);
        Assert.Equal(acked[2].Count + acked[3].Count, started.SamplesRolledBack);

        shard.Tell(new RequestBatches(0, 20), worker.Ref);
        var rest = new List<long>();
        for (var i = 0; i < 10; i++)
        {
            var issued = worker.FishForMessage<BatchIssued>(_ => true, TimeSpan.FromSeconds(10), $"batch {i} under the new coordinator");
            rest.Add(issued.Batch.BatchId);
            shard.Tell(new BatchAcked(issued.Batch.BatchId, 0), worker.Ref);
        }
        Assert.Contains(acked[2].BatchId, rest);
        Assert.Contains(acked[3].BatchId, rest);
        var done = proxy.FishForMessage<EpochCompleted>(_ => true, TimeSpan.FromSeconds(10), "epoch 1 completion under the new coordinator");
        Assert.True(done.Exact);
        Assert.Equal(200, done.SamplesConsumed);
    }

    public new void Dispose()
    {
        base.Dispose();
        _dir.Dispose();
    }
}
