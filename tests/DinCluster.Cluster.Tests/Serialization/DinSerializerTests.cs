using System.Collections;
using System.Reflection;
using System.Runtime.Serialization;
using Akka.Actor;
using Akka.TestKit.Xunit2;
using DinCluster.Cluster.Protocol;
using DinCluster.Cluster.Serialization;
using DinCluster.Core.Batches;
using Xunit.Abstractions;

namespace DinCluster.Cluster.Tests.Serialization;

public sealed class DinSerializerTests : TestKit
{
    private readonly ITestOutputHelper _output;

    public DinSerializerTests(ITestOutputHelper output) : base(output: output) => _output = output;

    private const int Seed = 20240611;

    public static TheoryData<string> MessageTypes()
    {
        var data = new TheoryData<string>();
        foreach (var t in AllMessageTypes()) data.Add(t.Name);
        return data;
    }

    private static IEnumerable<Type> AllMessageTypes() =>
        typeof(IDinMessage).Assembly.GetTypes()
            .Where(t => typeof(IDinMessage).IsAssignableFrom(t) && t is { IsInterface: false, IsAbstract: false })
            .OrderBy(t => t.Name, StringComparer.Ordinal);

    private DinSerializer Serializer => new((ExtendedActorSystem)Sys);

    [Theory]
    [MemberData(nameof(MessageTypes))]
    public void Serializer_round_trips_message_when_filled_with_sample_values(string typeName)
    {
        var type = AllMessageTypes().Single(t => t.Name == typeName);
        _output.WriteLine($"seed {Seed}");
        var original = new SampleValues(new Random(Seed), TestActor).Create(type);
        var serializer = Serializer;
        var manifest = serializer.Manifest(original);
        Assert.InRange(manifest.Length, 2, 4);
        var copy = serializer.FromBinary(serializer.ToBinary(original), manifest);
        Assert.IsType(type, copy);
        DeepEqual(original, copy, type.Name);
    }

    [Fact]
    public void Serializer_has_one_distinct_manifest_per_message_type()
    {
        var serializer = Serializer;
        var manifests = AllMessageTypes().Select(t => serializer.Manifest(new SampleValues(new Random(Seed), TestActor).Create(t))).ToList();
        Assert.Equal(manifests.Count, manifests.Distinct().Count());
        Assert.Equal(manifests.Order(), serializer.Manifests.Order());
    }

    [Fact]
    public void Serializer_rejects_payload_when_manifest_is_unknown()
    {
        var ex = Assert.Throws<SerializationException>(() => Serializer.FromBinary([1, 2, 3], "ZZZ"));
        Assert.Contains("'ZZZ'", ex.Message);
    }

    [Fact]
    public void Serializer_rejects_payload_when_truncated()
    {
        var s = Serializer;
        var bytes = s.ToBinary(new PullRows(7, "item", [1, 2, 3]));
        var ex = Assert.Throws<SerializationException>(() => s.FromBinary(bytes[..^5], "PR"));
        Assert.Contains("malformed 'PR'", ex.Message);
    }

    [Fact]
    public void Serializer_rejects_payload_when_array_length_is_corrupt()
    {
        var s = Serializer;
        var bytes = s.ToBinary(new DenseWeights(1, 2, [1f, 2f]));
        bytes[16] = 0xFF; bytes[17] = 0xFF; bytes[18] = 0xFF; bytes[19] = 0x7F; // length of Weights
        Assert.Throws<SerializationException>(() => s.FromBinary(bytes, "DW"));
    }

    [Fact]
    public void Serializer_rejects_payload_when_bytes_are_left_over()
    {
        var s = Serializer;
        var bytes = s.ToBinary(new StartEpoch(3)).Concat(new byte[] { 9 }).ToArray();
        Assert.Throws<SerializationException>(() => s.FromBinary(bytes, "SE"));
    }

    [Fact]
    public void Serializer_rejects_rows_when_values_disagree_with_ids_and_dim()
    {
        var s = Serializer;
        var bytes = s.ToBinary(new RowsPulled(1, 0, 2, new TableRows("item", 3, [1, 2], new float[5])));
        Assert.Throws<SerializationException>(() => s.FromBinary(bytes, "RP"));
    }

    /// <summary>Structural equality: arrays element-wise, objects property by property.</summary>
    private static void DeepEqual(object? expected, object? actual, string path)
    {
        if (expected is null || actual is null)
        {
            Assert.True(expected is null && actual is null, $"{path}: one side is null");
            return;
        }
        var type = expected.GetType();
        if (type.IsPrimitive || type.IsEnum || expected is string || expected is IActorRef)
        {
            Assert.True(expected.Equals(actual), $"{path}: expected {expected}, got {actual}");
            return;
        }
        if (expected is IList list)
        {
            var other = (IList)actual;
            Assert.True(list.Count == other.Count, $"{path}: {list.Count} elements, got {other.Count}");
            for (var i = 0; i < list.Count; i++) DeepEqual(list[i], other[i], $"{path}[{i}]");
            return;
        }
        foreach (var p in type.GetProperties(BindingFlags.Public | BindingFlags.Instance))
            if (p.GetIndexParameters().Length == 0 && p.Name != "EqualityContract")
                DeepEqual(p.GetValue(expected), p.GetValue(actual), $"{path}.{p.Name}");
    }

    /// <summary>Fills any protocol type from its widest constructor with random, non-default values.</summary>
    private sealed class SampleValues(Random random, IActorRef actor)
    {
        public object Create(Type type)
        {
            if (type.GetField("Instance", BindingFlags.Public | BindingFlags.Static) is { } singleton)
                return singleton.GetValue(null)!;
            if (type == typeof(Batch)) return SampleBatch();
            var ctor = type.GetConstructors().OrderByDescending(c => c.GetParameters().Length).First();
            return ctor.Invoke(ctor.GetParameters().Select(p => Value(p.ParameterType)).ToArray());
        }

        private object Value(Type t)
        {
            if (t == typeof(int)) return random.Next(1, 1000);
            if (t == typeof(long)) return random.NextInt64(1, long.MaxValue);
            if (t == typeof(ulong)) return (ulong)random.NextInt64(1, long.MaxValue) * 2UL + 1UL;
            if (t == typeof(float)) return (float)random.NextDouble();
            if (t == typeof(double)) return random.NextDouble();
            if (t == typeof(bool)) return true;
            if (t == typeof(string)) return "table-" + random.Next(100);
            if (t.IsEnum) { var values = Enum.GetValues(t); return values.GetValue(values.Length - 1)!; }
            if (t == typeof(IActorRef)) return actor;
            if (t == typeof(TableRows))
            {
                var dim = random.Next(1, 5);
                var n = random.Next(1, 6);
                return new TableRows("item", dim, Enumerable.Range(0, n).Select(_ => random.NextInt64()).ToArray(),
                    Enumerable.Range(0, n * dim).Select(_ => (float)random.NextDouble()).ToArray());
            }
            if (t.IsArray)
            {
                var element = t.GetElementType()!;
                var a = Array.CreateInstance(element, random.Next(1, 6));
                for (var i = 0; i < a.Length; i++) a.SetValue(Value(element), i);
                return a;
            }
            return Create(t);
        }

        private Batch SampleBatch()
        {
            var lengths = new[] { 2, 0, 3 };
            long[] Ids(int n) => Enumerable.Range(0, n).Select(_ => random.NextInt64()).ToArray();
            return new Batch
            {
                BatchId = random.NextInt64(),
                Count = 3,
                Sparse = [Ids(3), Ids(3), Ids(3)],
                Dense = [[1f, 2f, 3f, 4f, 5f, 6f]],
                Lengths = [lengths, lengths],
                Values = [Ids(5), Ids(5)],
                Labels = [1f, 0f, 1f],
            };
        }
    }
}
