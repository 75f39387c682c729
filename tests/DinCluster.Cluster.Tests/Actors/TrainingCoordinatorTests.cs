using Akka.Actor;
using Akka.TestKit.Xunit2;
using DinCluster.Cluster.Actors;
using DinCluster.Cluster.Jobs;
using DinCluster.Cluster.Protocol;
using DinCluster.Cluster.Tests.Support;
using Xunit.Abstractions;

namespace DinCluster.Cluster.Tests.Actors;

public sealed class TrainingCoordinatorTests : TestKit, IDisposable
{
    private const int Seed = 8;
    private readonly TempDir _dir = new();
    private readonly TrainJob _job;

    public TrainingCoordinatorTests(ITestOutputHelper output) : base(ActorTestConfig.Create(), output: output)
    {
        output.WriteLine($"seed {Seed}");
        var data = Path.Combine(_dir.Path, "data");
        SyntheticData.Write(data, Seed, trainSamples: 600, testSamples: 50, rowGroupSize: 70, trainFiles: 3);
        _job = SyntheticData.Job(data, Path.Combine(_dir.Path, "run"), Seed);
    }

    private CoordinatorSetup Setup(TimeSpan formation, TaskCompletionSource<ClusterRunResult> result) =>
        new(_job, new TrainOptions(SyncMode.Async, 0, 2, 1 << 20, TrainJobJson.Write(_job)), 1, 2, 2, 1, "test", "test", formation, new StringWriter(), result);

    [Fact]
    public void Coordinator_assigns_ps_shards_and_every_row_group_once_when_all_roles_have_joined()
    {
        var coordinator = Sys.ActorOf(TrainingCoordinator.Props(Setup(TimeSpan.FromMinutes(1), new())));
        var ps = new[] { CreateTestProbe("ps-a"), CreateTestProbe("ps-b") };
        var data = new[] { CreateTestProbe("data-a"), CreateTestProbe("data-b") };
        var worker = CreateTestProbe("worker-a");
        foreach (var p in ps) coordinator.Tell(new JoinTraining(NodeRole.ParameterServer), p.Ref);
        foreach (var d in data) coordinator.Tell(new JoinTraining(NodeRole.DataShard), d.Ref);
        worker.ExpectNoMsg(TimeSpan.FromMilliseconds(100));
        coordinator.Tell(new JoinTraining(NodeRole.Worker), worker.Ref);

        var shards = ps.Select(p => p.ExpectMsg<AssignPsShard>(TimeSpan.FromSeconds(10), "PS assignment")).ToList();
        Assert.Equal([0, 1], shards.Select(s => s.ShardIndex));
        Assert.All(shards, s => Assert.Equal(2, s.ShardCount));
        var groups = data.Select(d => d.ExpectMsg<AssignRowGroups>(TimeSpan.FromSeconds(10), "row-group assignment")).ToList();
        var all = groups.SelectMany(g => g.RowGroups).ToList();
        Assert.Equal(all.Count, all.Distinct().Count());
        Assert.Equal(600, all.Sum(g => g.Rows));
        var rows = groups.Select(g => g.RowGroups.Sum(r => r.Rows)).ToList();
        Assert.True(Math.Abs(rows[0] - rows[1]) <= 70, $"rows per data shard {rows[0]} / {rows[1]}");

        // PS shard 0 hosts the dense parameters; the workers are told where.
        var dense = CreateTestProbe("dense");
        for (var i = 0; i < 2; i++)
        {
            coordinator.Tell(new PsShardReady(i, 0, i == 0 ? dense.Ref : ActorRefs.Nobody), ps[i].Ref);
            coordinator.Tell(new RowGroupsAssigned(i, 1, rows[i]), data[i].Ref);
        }
        var start = worker.ExpectMsg<StartTraining>(TimeSpan.FromSeconds(10), "worker start");
        Assert.Equal(0, start.WorkerIndex);
        Assert.Equal(ps.Select(p => p.Ref), start.PsShards);
        Assert.Equal(dense.Ref, start.Dense);
        coordinator.Tell(new WorkerReady(0), worker.Ref);
        foreach (var d in data) d.ExpectMsg<StartEpoch>(m => m.Epoch == 1);
    }

    [Fact]
    public void Ssp_coordinator_announces_each_new_epoch_gate_so_an_idle_worker_can_say_it_waits()
    {
        var job = _job with { PsShards = 1 };
        var setup = new CoordinatorSetup(job, new TrainOptions(SyncMode.Ssp, 1, 2, 1 << 20, TrainJobJson.Write(job)), 2, 1, 1, 1, "test", "test",
            TimeSpan.FromMinutes(1), new StringWriter(), new TaskCompletionSource<ClusterRunResult>());
        var coordinator = Sys.ActorOf(TrainingCoordinator.Props(setup));
        var ps = CreateTestProbe("ps");
        var data = CreateTestProbe("data");
        var workers = new[] { CreateTestProbe("worker-a"), CreateTestProbe("worker-b") };
        coordinator.Tell(new JoinTraining(NodeRole.ParameterServer), ps.Ref);
        coordinator.Tell(new JoinTraining(NodeRole.DataShard), data.Ref);
        foreach (var w in workers) coordinator.Tell(new JoinTraining(NodeRole.Worker), w.Ref);
        ps.ExpectMsg<AssignPsShard>(TimeSpan.FromSeconds(10));
        var groups = data.ExpectMsg<AssignRowGroups>(TimeSpan.FromSeconds(10));
        coordinator.Tell(new PsShardReady(0, 0, CreateTestProbe("dense").Ref), ps.Ref);
        coordinator.Tell(new RowGroupsAssigned(0, 3, groups.RowGroups.Sum(g => g.Rows)), data.Ref);
        var index = workers.ToDictionary(w => w, w => w.ExpectMsg<StartTraining>(TimeSpan.FromSeconds(10)).WorkerIndex);
        foreach (var w in workers) coordinator.Tell(new WorkerReady(index[w]), w.Ref);
        data.ExpectMsg<StartEpoch>(m => m.Epoch == 1);

        // The new gate (every clock 0) reaches every worker: one that had said "waiting" before it
        // existed hears it and says so again (WorkerActor), instead of holding the others back.
        foreach (var w in workers) Assert.Equal(0, w.FishForMessage<ClockAdvanced>(_ => true, TimeSpan.FromSeconds(10)).MinClock);
        var (busy, idle) = (workers[0], workers[1]);
        coordinator.Tell(new WorkerWaiting(index[idle], 0), idle.Ref);
        coordinator.Tell(new StepCompleted(index[busy], 1, 1, 10, 0.69, false), busy.Ref);
        coordinator.Tell(new StepCompleted(index[busy], 2, 2, 10, 0.69, false), busy.Ref);
        // The idle worker no longer counts: the bound follows the busy one.
        Assert.Equal(2, busy.FishForMessage<ClockAdvanced>(m => m.MinClock == 2, TimeSpan.FromSeconds(10)).MinClock);
    }

    [Fact]
    public async Task Coordinator_fails_the_run_naming_missing_roles_when_formation_times_out()
    {
        var result = new TaskCompletionSource<ClusterRunResult>();
        var coordinator = Sys.ActorOf(TrainingCoordinator.Props(Setup(TimeSpan.FromMilliseconds(300), result)));
        coordinator.Tell(new JoinTraining(NodeRole.Worker), CreateTestProbe().Ref);
        var run = await result.Task.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal("failed", run.Summary.Status);
        Assert.Contains("1/1 workers, 0/2 PS shards, 0/2 data shards", run.Summary.Error);
    }

    public new void Dispose()
    {
        base.Dispose();
        _dir.Dispose();
    }
}
