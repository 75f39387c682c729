using DinCluster.Cluster.Sync;
using DinCluster.Core.Batches;

namespace DinCluster.Cluster.Tests.Sync;

public sealed class SyncGateTests
{
    [Fact]
    public void Ssp_gate_holds_a_worker_back_when_it_is_more_than_K_steps_ahead()
    {
        var gate = new SspGate(staleness: 2);
        gate.Join(0);
        gate.Join(1);
        gate.Completed(0, 2);
        Assert.Equal(0, gate.MinClock);
        Assert.True(SspGate.CanStart(2, gate.MinClock, 2));
        gate.Completed(0, 3);
        Assert.False(SspGate.CanStart(3, gate.MinClock, 2));
        gate.Completed(1, 1);
        Assert.True(SspGate.CanStart(3, gate.MinClock, 2));
    }

    [Fact]
    public void Ssp_gate_ignores_waiting_and_removed_workers_when_computing_the_slowest()
    {
        var gate = new SspGate(0);
        gate.Join(0);
        gate.Join(1);
        gate.Join(2);
        gate.Completed(0, 5);
        gate.Waiting(1, 1);
        gate.Remove(2);
        Assert.Equal(5, gate.MinClock);
        gate.Waiting(0, 5);
        Assert.Null(gate.MinClock);
        Assert.True(SspGate.CanStart(100, gate.MinClock, 0));
    }

    [Fact]
    public void Bsp_barrier_completes_when_every_worker_computed_or_skipped()
    {
        var barrier = new BspBarrier(7, [0, 1, 2]);
        barrier.Computed(2, batchId: 20, samples: 10, loss: 0.5);
        barrier.Skipped(1);
        Assert.False(barrier.IsComplete);
        barrier.Computed(0, batchId: 10, samples: 30, loss: 0.7);
        Assert.True(barrier.IsComplete);
        Assert.Equal([0, 2], barrier.Participants);
        Assert.Equal([30, 10], barrier.ParticipantSamples);
        Assert.Equal((0.7 * 30 + 0.5 * 10) / 40, barrier.Loss, 12);
    }

    [Fact]
    public void Bsp_barrier_stops_waiting_for_a_worker_when_it_is_removed()
    {
        var barrier = new BspBarrier(1, [0, 1]);
        barrier.Computed(0, 1, 5, 0.1);
        barrier.Remove(1);
        Assert.True(barrier.IsComplete);
    }

    [Fact]
    public void Step_buffer_combines_dense_gradients_and_gives_null_when_nothing_was_pushed()
    {
        var buffer = new StepBuffer();
        buffer.AddDense(1, 0, [2f, 4f]);
        buffer.AddDense(1, 1, [4f, 8f]);
        Assert.Equal([3f, 6f], buffer.CombineDense(1, [0, 1], [5, 5])!);
        Assert.Null(buffer.CombineDense(2, [0], [5]));
        Assert.True(StepBuffer.BatchIdOf(0) < 0);
    }

    [Fact]
    public void Step_buffer_weights_each_worker_by_its_share_of_the_global_batch()
    {
        var buffer = new StepBuffer();
        buffer.Add(3, worker: 1, [new TableRows("item", 2, [7, 9], [1, 1, 2, 2])], [[1, 2]]);
        buffer.Add(3, worker: 0, [new TableRows("item", 2, [9], [4, 4])], [[5]]);
        var (combined, counts) = Assert.Single(buffer.Combine(3, workers: [1, 0, 2], samples: [1, 3, 4]));
        // worker 0 weight 3/8 comes first (ascending worker order): id 9 first.
        Assert.Equal([9L, 7L], combined.Ids);
        Assert.Equal([4 * 3 / 8f + 2 / 8f, 4 * 3 / 8f + 2 / 8f, 1 / 8f, 1 / 8f], combined.Values);
        Assert.Equal([7, 1], counts);
        Assert.Empty(buffer.Combine(3, [0], [1]));
    }
}
