namespace DinCluster.Data.Tests;
internal static class AssemblyMarker { }
