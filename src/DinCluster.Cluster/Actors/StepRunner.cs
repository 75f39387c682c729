using Akka.Actor;
using DinCluster.Cluster.Configuration;
using DinCluster.Cluster.Jobs;
using DinCluster.Core.Batches;
using DinCluster.Data;
using DinCluster.Model.Networks;
using DinCluster.Model.Training;

namespace DinCluster.Cluster.Actors;

/// <summary>
/// The worker's compute: owns the TorchSharp network and runs train steps, predictions and
/// test-file reads. Deployed on the dedicated compute dispatcher, so a long step never occupies
/// the .NET pool that runs heartbeats. Messages are local (parent and child share a node).
/// A failure is reported as <see cref="StepFailed"/>; the worker then stops so its batches are re-issued.
/// </summary>
public sealed class StepRunner : ReceiveActor
{
    private NetworkLanes? _network;
    private TrainJob _job = null!;

    public StepRunner()
    {
        Receive<CreateModel>(m => Guard(() =>
        {
            _job = m.Job;
            _network = new NetworkLanes(m.Job.Schema, m.Job.Model, m.Job.Lanes, m.Threads.PerLane(m.Job.Lanes));
            Sender.Tell(new ModelCreated(_network.GetDense()));
        }));
        Receive<RunTrainStep>(m => Guard(() =>
        {
            _network!.SetDense(m.Dense);
            Sender.Tell(new TrainStepDone(m.Batch.BatchId, _network.TrainStep(m.Batch, m.Index, m.Rows)));
        }));
        Receive<ReadEvalGroup>(m => Guard(() =>
        {
            var reader = new BehaviourLogReader(_job.Schema, _job.OnBadInput);
            var batches = reader.ReadBatches(m.RowGroup.File, m.RowGroup.RowGroup, _job.EvalBatchSize, 0).Where(b => b.Count > 0).ToArray();
            Sender.Tell(new EvalGroupRead(m.TaskId, batches));
        }));
        // Forwarded by the worker: the reply goes straight to the coordinator that asked.
        Receive<ReadBuffers>(m => Guard(() => Sender.Tell(new Protocol.WorkerBuffers(m.WorkerIndex, m.Epoch, _network!.GetBuffers()))));
        Receive<Protocol.SetBuffers>(m => Guard(() => _network!.SetBuffers(m.Buffers)));
        Receive<RunPredict>(m => Guard(() =>
        {
            _network!.SetDense(m.Dense);
            Sender.Tell(new Predicted(m.TaskId, m.Sequence, _network.Predict(m.Batch, m.Index, m.Rows)));
        }));
    }

    public static Props Props(string dispatcher) => Akka.Actor.Props.Create(() => new StepRunner()).WithDispatcher(dispatcher);

    private void Guard(Action work)
    {
        try
        {
            work();
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            Sender.Tell(new StepFailed(e.Message));
        }
    }

    protected override void PostStop() => _network?.Dispose();

    public sealed record CreateModel(TrainJob Job, WorkerThreads Threads);
    public sealed record ModelCreated(float[] Dense);
    public sealed record RunTrainStep(Batch Batch, BatchIndex Index, float[][] Rows, float[] Dense);
    public sealed record TrainStepDone(long BatchId, TrainStepResult Result);
    public sealed record ReadEvalGroup(int TaskId, Protocol.RowGroupRef RowGroup);
    public sealed record EvalGroupRead(int TaskId, Batch[] Batches);
    public sealed record RunPredict(int TaskId, int Sequence, Batch Batch, BatchIndex Index, float[][] Rows, float[] Dense);
    public sealed record Predicted(int TaskId, int Sequence, float[] Scores);
    public sealed record StepFailed(string Error);
    public sealed record ReadBuffers(int WorkerIndex, int Epoch);
}
