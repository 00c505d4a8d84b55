//go:build linux && !hogs_small

package kevents

import (
	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
)

// Map names, as the programs reference them.
const (
	mapFlows   = "hogs_flows"
	mapPorts   = "hogs_ports"
	mapPending = "hogs_pending"
)

// Map sizes: LRU maps, so memory is bounded and the oldest records go
// first. A record stays after its socket closes (its close time set)
// until evicted, which is the delayed delete.
const (
	maxFlows   = 16384
	maxPorts   = 8192
	maxPending = 4096
)

// TCP states (include/net/tcp_states.h).
const (
	tcpEstablished = 1
	tcpSynSent     = 2
	tcpSynRecv     = 3
	tcpClose       = 7
	tcpListen      = 10
)

// IP protocol numbers as the programs compare them.
const (
	protoTCP = 6
	protoUDP = 17
)

// The programs' stack, below the frame pointer R10.
const (
	stackRecord  = -64  // a record (recordSize bytes)
	stackFlowKey = -112 // a flow key (flowKeySize bytes)
	stackPortKey = -120 // a port key (portKeySize bytes)
	stackScratch = -128 // 8 bytes: a pointer read from the kernel, a map key
	stackSmall   = -136 // 8 bytes: a u16 read from the kernel
)

// Registers the programs keep across helper calls.
const (
	regSock     = asm.R7 // struct sock *
	regOldState = asm.R8
	regNewState = asm.R9
)

// mapSpecs are the maps the programs share with user space.
func mapSpecs() map[string]*ebpf.MapSpec {
	lru := func(name string, keySize, entries uint32) *ebpf.MapSpec {
		return &ebpf.MapSpec{Name: name, Type: ebpf.LRUHash, KeySize: keySize, ValueSize: recordSize, MaxEntries: entries}
	}
	return map[string]*ebpf.MapSpec{
		mapFlows:   lru(mapFlows, flowKeySize, maxFlows),
		mapPorts:   lru(mapPorts, portKeySize, maxPorts),
		mapPending: lru(mapPending, 8, maxPending),
	}
}

// storeImm64 stores a 32-bit value zero-extended to 64 bits on the stack
// at off (BPF has no 64-bit store of an immediate).
func storeImm64(off int16, v int32) asm.Instructions {
	return asm.Instructions{
		asm.StoreImm(asm.RFP, off, int64(v), asm.Word),
		asm.StoreImm(asm.RFP, off+4, 0, asm.Word),
	}
}

// readKernel copies size bytes at src+off in kernel memory to the stack at
// dst (bpf_probe_read_kernel; on a fault the destination is zeroed).
func readKernel(dst int16, size int32, src asm.Register, off int32) asm.Instructions {
	return asm.Instructions{
		asm.Mov.Reg(asm.R1, asm.RFP),
		asm.Add.Imm(asm.R1, int32(dst)),
		asm.Mov.Imm(asm.R2, size),
		asm.Mov.Reg(asm.R3, src),
		asm.Add.Imm(asm.R3, off),
		asm.FnProbeReadKernel.Call(),
	}
}

// readNetNS writes the inode of the socket's network namespace (u32) to
// the stack at dst.
func readNetNS(o offsets, dst int16) asm.Instructions {
	ins := readKernel(stackScratch, 8, regSock, o.skNet)
	ins = append(ins, asm.LoadMem(asm.R6, asm.RFP, stackScratch, asm.DWord))
	return append(ins, readKernel(dst, 4, asm.R6, o.netInum)...)
}

// readLocalPort writes the socket's local port, host order (u16), to the
// stack at dst.
func readLocalPort(o offsets, dst int16) asm.Instructions {
	ins := readKernel(stackSmall, 2, regSock, o.inetSport)
	return append(ins,
		asm.LoadMem(asm.R0, asm.RFP, stackSmall, asm.Half),
		asm.HostTo(asm.BE, asm.R0, asm.Half),
		asm.StoreMem(asm.RFP, dst, asm.R0, asm.Half),
	)
}

// readProtocol leaves the socket's protocol in R0.
func readProtocol(o offsets) asm.Instructions {
	ins := readKernel(stackSmall, 2, regSock, o.skProtocol)
	return append(ins, asm.LoadMem(asm.R0, asm.RFP, stackSmall, asm.Half))
}

// buildRecord writes the current process's record to the stack (process
// context only: "current" is the process acting on the socket).
func buildRecord(o offsets, flags int32) asm.Instructions {
	ins := asm.Instructions{
		asm.FnGetCurrentPidTgid.Call(),
		asm.RSh.Imm(asm.R0, 32),
		asm.StoreMem(asm.RFP, stackRecord+recordTGID, asm.R0, asm.Word),
		asm.FnGetCurrentUidGid.Call(),
		asm.StoreMem(asm.RFP, stackRecord+recordUID, asm.R0, asm.Word),
		asm.FnGetCurrentCgroupId.Call(),
		asm.StoreMem(asm.RFP, stackRecord+recordCgroup, asm.R0, asm.DWord),
		asm.FnGetCurrentTask.Call(),
		asm.Mov.Reg(asm.R6, asm.R0),
	}
	ins = append(ins, readKernel(stackScratch, 8, asm.R6, o.groupLeader)...)
	ins = append(ins, asm.LoadMem(asm.R6, asm.RFP, stackScratch, asm.DWord))
	ins = append(ins, readKernel(stackRecord+recordStart, 8, asm.R6, o.startBoot)...)
	ins = append(ins,
		asm.FnKtimeGetNs.Call(),
		asm.StoreMem(asm.RFP, stackRecord+recordSeen, asm.R0, asm.DWord),
		storeImm64(stackRecord+recordClosed, 0)[0],
		storeImm64(stackRecord+recordClosed, 0)[1],
		storeImm64(stackRecord+recordFlags, flags)[0],
		storeImm64(stackRecord+recordFlags, flags)[1],
		asm.Mov.Reg(asm.R1, asm.RFP),
		asm.Add.Imm(asm.R1, stackRecord+recordComm),
		asm.Mov.Imm(asm.R2, recordCommLen),
		asm.FnGetCurrentComm.Call(),
	)
	return ins
}

// buildPortKey writes the port key of the socket's local port to the stack.
func buildPortKey(o offsets, proto int64) asm.Instructions {
	ins := readNetNS(o, stackPortKey+portKeyNetNS)
	ins = append(ins, readLocalPort(o, stackPortKey+portKeyPort)...)
	return append(ins,
		asm.StoreImm(asm.RFP, stackPortKey+portKeyProto, proto, asm.Byte),
		asm.StoreImm(asm.RFP, stackPortKey+portKeyProto+1, 0, asm.Byte),
	)
}

// buildFlowKey writes the socket's flow key to the stack; a socket of
// another family jumps to exit.
func buildFlowKey(o offsets, exit string) asm.Instructions {
	ins := asm.Instructions{}
	for off := int16(0); off < flowKeySize; off += 8 {
		ins = append(ins, storeImm64(stackFlowKey+off, 0)...)
	}
	ins = append(ins, readNetNS(o, stackFlowKey+flowKeyNetNS)...)
	ins = append(ins, readKernel(stackFlowKey+flowKeyRport, 2, regSock, o.skDport)...)
	ins = append(ins, readLocalPort(o, stackFlowKey+flowKeyLport)...)
	ins = append(ins, asm.StoreImm(asm.RFP, stackFlowKey+flowKeyProto, protoTCP, asm.Byte))
	ins = append(ins, readKernel(stackSmall, 2, regSock, o.skFamily)...)
	ins = append(ins,
		asm.LoadMem(asm.R0, asm.RFP, stackSmall, asm.Half),
		asm.StoreMem(asm.RFP, stackFlowKey+flowKeyFamily, asm.R0, asm.Byte),
		asm.JEq.Imm(asm.R0, afInet6, "flowkey_v6"),
		asm.JNE.Imm(asm.R0, afInet, exit),
	)
	ins = append(ins, readKernel(stackFlowKey+flowKeyLaddr, 4, regSock, o.skRcvSaddr)...)
	ins = append(ins, readKernel(stackFlowKey+flowKeyRaddr, 4, regSock, o.skDaddr)...)
	ins = append(ins, asm.Ja.Label("flowkey_done"))
	v6 := readKernel(stackFlowKey+flowKeyLaddr, 16, regSock, o.skV6RcvSaddr)
	v6[0] = v6[0].WithSymbol("flowkey_v6")
	ins = append(ins, v6...)
	ins = append(ins, readKernel(stackFlowKey+flowKeyRaddr, 16, regSock, o.skV6Daddr)...)
	return append(ins, asm.Mov.Imm(asm.R0, 0).WithSymbol("flowkey_done"))
}

// mapCall calls helper fn with a map in R1, the stack at key in R2 and,
// when value is not 0, the stack at value in R3 and flags 0 in R4.
func mapCall(fn asm.BuiltinFunc, name string, key, value int16) asm.Instructions {
	ins := asm.Instructions{
		asm.LoadMapPtr(asm.R1, 0).WithReference(name),
		asm.Mov.Reg(asm.R2, asm.RFP),
		asm.Add.Imm(asm.R2, int32(key)),
	}
	if value != 0 {
		ins = append(ins,
			asm.Mov.Reg(asm.R3, asm.RFP),
			asm.Add.Imm(asm.R3, int32(value)),
			asm.Mov.Imm(asm.R4, 0),
		)
	}
	return append(ins, fn.Call())
}

// stampClosed sets the close time of the record R0 points to (non-nil).
func stampClosed() asm.Instructions {
	return asm.Instructions{
		asm.Mov.Reg(asm.R6, asm.R0),
		asm.FnKtimeGetNs.Call(),
		asm.StoreMem(asm.R6, recordClosed, asm.R0, asm.DWord),
	}
}

// stateProgram runs at sock:inet_sock_set_state (raw tracepoint: args
// sk, oldstate, newstate). TCP only:
//   - CLOSE→SYN_SENT (connect, process context): the connecting process,
//     kept by socket address until the connection is established;
//   - →LISTEN (listen, process context): the listener's owner by port;
//   - SYN_SENT→ESTABLISHED (softirq): the connect's record under the
//     connection's flow key;
//   - SYN_RECV→ESTABLISHED (softirq, before accept): the listener's
//     record, marked passive, under the flow key;
//   - →CLOSE: the flow's (or listener's) close time.
func stateProgram(o offsets) asm.Instructions {
	ins := asm.Instructions{
		asm.LoadMem(regSock, asm.R1, 0, asm.DWord),
		asm.LoadMem(regOldState, asm.R1, 8, asm.DWord),
		asm.LoadMem(regNewState, asm.R1, 16, asm.DWord),
	}
	ins = append(ins, readProtocol(o)...)
	ins = append(ins,
		asm.JNE.Imm(asm.R0, protoTCP, "exit"),
		asm.JEq.Imm(regNewState, tcpSynSent, "connect"),
		asm.JEq.Imm(regNewState, tcpListen, "listen"),
		asm.JEq.Imm(regNewState, tcpEstablished, "established"),
		asm.JEq.Imm(regNewState, tcpClose, "close"),
		asm.Ja.Label("exit"),
	)

	// connect: pending[sk] = current process.
	connect := buildRecord(o, 0)
	connect[0] = connect[0].WithSymbol("connect")
	ins = append(ins, connect...)
	ins = append(ins, asm.StoreMem(asm.RFP, stackScratch, regSock, asm.DWord))
	ins = append(ins, mapCall(asm.FnMapUpdateElem, mapPending, stackScratch, stackRecord)...)
	ins = append(ins, asm.Ja.Label("exit"))

	// listen: ports[netns, TCP, port] = current process.
	listen := buildRecord(o, 0)
	listen[0] = listen[0].WithSymbol("listen")
	ins = append(ins, listen...)
	ins = append(ins, buildPortKey(o, protoTCP)...)
	ins = append(ins, mapCall(asm.FnMapUpdateElem, mapPorts, stackPortKey, stackRecord)...)
	ins = append(ins, asm.Ja.Label("exit"))

	// established: the flow key, then by the old state.
	est := buildFlowKey(o, "exit")
	est[0] = est[0].WithSymbol("established")
	ins = append(ins, est...)
	ins = append(ins,
		asm.JEq.Imm(regOldState, tcpSynRecv, "passive"),
		asm.JNE.Imm(regOldState, tcpSynSent, "exit"),
		asm.StoreMem(asm.RFP, stackScratch, regSock, asm.DWord),
	)
	ins = append(ins, mapCall(asm.FnMapLookupElem, mapPending, stackScratch, 0)...)
	ins = append(ins,
		asm.JEq.Imm(asm.R0, 0, "exit"),
		asm.LoadMapPtr(asm.R1, 0).WithReference(mapFlows),
		asm.Mov.Reg(asm.R2, asm.RFP),
		asm.Add.Imm(asm.R2, stackFlowKey),
		asm.Mov.Reg(asm.R3, asm.R0),
		asm.Mov.Imm(asm.R4, 0),
		asm.FnMapUpdateElem.Call(),
	)
	ins = append(ins, mapCall(asm.FnMapDeleteElem, mapPending, stackScratch, 0)...)
	ins = append(ins, asm.Ja.Label("exit"))

	// passive: the listener's record under the flow key.
	ins = append(ins,
		asm.LoadMem(asm.R0, asm.RFP, stackFlowKey+flowKeyNetNS, asm.Word).WithSymbol("passive"),
		asm.StoreMem(asm.RFP, stackPortKey+portKeyNetNS, asm.R0, asm.Word),
		asm.LoadMem(asm.R0, asm.RFP, stackFlowKey+flowKeyLport, asm.Half),
		asm.StoreMem(asm.RFP, stackPortKey+portKeyPort, asm.R0, asm.Half),
		asm.StoreImm(asm.RFP, stackPortKey+portKeyProto, protoTCP, asm.Byte),
		asm.StoreImm(asm.RFP, stackPortKey+portKeyProto+1, 0, asm.Byte),
	)
	ins = append(ins, mapCall(asm.FnMapLookupElem, mapPorts, stackPortKey, 0)...)
	ins = append(ins, asm.JEq.Imm(asm.R0, 0, "exit"))
	for off := int16(0); off < recordSize; off += 8 {
		ins = append(ins,
			asm.LoadMem(asm.R1, asm.R0, off, asm.DWord),
			asm.StoreMem(asm.RFP, stackRecord+off, asm.R1, asm.DWord),
		)
	}
	ins = append(ins,
		storeImm64(stackRecord+recordFlags, recordPassive)[0],
		storeImm64(stackRecord+recordFlags, recordPassive)[1],
		storeImm64(stackRecord+recordClosed, 0)[0],
		storeImm64(stackRecord+recordClosed, 0)[1],
		asm.FnKtimeGetNs.Call(),
		asm.StoreMem(asm.RFP, stackRecord+recordSeen, asm.R0, asm.DWord),
	)
	ins = append(ins, mapCall(asm.FnMapUpdateElem, mapFlows, stackFlowKey, stackRecord)...)
	ins = append(ins, asm.Ja.Label("exit"))

	// close: stamp the close time; a failed connect drops its pending record.
	ins = append(ins,
		asm.JEq.Imm(regOldState, tcpListen, "close_listener").WithSymbol("close"),
		asm.JNE.Imm(regOldState, tcpSynSent, "close_flow"),
		asm.StoreMem(asm.RFP, stackScratch, regSock, asm.DWord),
	)
	ins = append(ins, mapCall(asm.FnMapDeleteElem, mapPending, stackScratch, 0)...)
	ins = append(ins, asm.Ja.Label("exit"))
	closeFlow := buildFlowKey(o, "exit")
	closeFlow[0] = closeFlow[0].WithSymbol("close_flow")
	// buildFlowKey's labels must be unique within the program.
	closeFlow = relabel(closeFlow, "flowkey_v6", "close_flowkey_v6", "flowkey_done", "close_flowkey_done")
	ins = append(ins, closeFlow...)
	ins = append(ins, mapCall(asm.FnMapLookupElem, mapFlows, stackFlowKey, 0)...)
	ins = append(ins, asm.JEq.Imm(asm.R0, 0, "exit"))
	ins = append(ins, stampClosed()...)
	ins = append(ins, asm.Ja.Label("exit"))

	closeListener := buildPortKey(o, protoTCP)
	closeListener[0] = closeListener[0].WithSymbol("close_listener")
	ins = append(ins, closeListener...)
	ins = append(ins, mapCall(asm.FnMapLookupElem, mapPorts, stackPortKey, 0)...)
	ins = append(ins, asm.JEq.Imm(asm.R0, 0, "exit"))
	ins = append(ins, stampClosed()...)

	return append(ins,
		asm.Mov.Imm(asm.R0, 0).WithSymbol("exit"),
		asm.Return(),
	)
}

// relabel renames symbols and jump targets in pairs old, new.
func relabel(ins asm.Instructions, pairs ...string) asm.Instructions {
	for i := range ins {
		for p := 0; p+1 < len(pairs); p += 2 {
			if ins[i].Symbol() == pairs[p] {
				ins[i] = ins[i].WithSymbol(pairs[p+1])
			}
			if ins[i].OpCode.JumpOp() != asm.InvalidJumpOp && ins[i].Reference() == pairs[p] {
				ins[i] = ins[i].WithReference(pairs[p+1])
			}
		}
	}
	return ins
}

// udpProgram runs at sock:sock_send_length and sock:sock_recv_length
// (raw tracepoints: args sk, ret, flags), after a send or receive in the
// process doing it. For UDP it records that process by local port (the
// port is bound by then, also for a first sendto). It looks up first: a
// port whose record already names this process only has its seen time
// refreshed, at most once a second.
func udpProgram(o offsets) asm.Instructions {
	ins := asm.Instructions{
		asm.LoadMem(regSock, asm.R1, 0, asm.DWord),
	}
	ins = append(ins, readProtocol(o)...)
	ins = append(ins, asm.JNE.Imm(asm.R0, protoUDP, "exit"))
	ins = append(ins, buildPortKey(o, protoUDP)...)
	ins = append(ins,
		asm.LoadMem(asm.R0, asm.RFP, stackPortKey+portKeyPort, asm.Half),
		asm.JEq.Imm(asm.R0, 0, "exit"),
		asm.FnGetCurrentPidTgid.Call(),
		asm.RSh.Imm(asm.R0, 32),
		asm.Mov.Reg(regNewState, asm.R0), // the tgid
	)
	ins = append(ins, mapCall(asm.FnMapLookupElem, mapPorts, stackPortKey, 0)...)
	ins = append(ins,
		asm.JEq.Imm(asm.R0, 0, "record"),
		asm.LoadMem(asm.R1, asm.R0, recordTGID, asm.Word),
		asm.JNE.Reg(asm.R1, regNewState, "record"),
		asm.Mov.Reg(asm.R6, asm.R0),
		asm.FnKtimeGetNs.Call(),
		asm.LoadMem(asm.R1, asm.R6, recordSeen, asm.DWord),
		asm.Mov.Reg(asm.R2, asm.R0),
		asm.Sub.Reg(asm.R2, asm.R1),
		asm.JLT.Imm(asm.R2, 1e9, "exit"),
		asm.StoreMem(asm.R6, recordSeen, asm.R0, asm.DWord),
		asm.Ja.Label("exit"),
	)
	rec := buildRecord(o, recordUDP)
	rec[0] = rec[0].WithSymbol("record")
	ins = append(ins, rec...)
	ins = append(ins, mapCall(asm.FnMapUpdateElem, mapPorts, stackPortKey, stackRecord)...)
	return append(ins,
		asm.Mov.Imm(asm.R0, 0).WithSymbol("exit"),
		asm.Return(),
	)
}
