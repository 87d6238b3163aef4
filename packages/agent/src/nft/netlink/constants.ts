// Numeric constants of the netlink batch the chain refiller sends. Each group says where it
// comes from; none of them may be changed without changing that source.

// <linux/netlink.h>
export const NLMSG_ERROR = 2;
export const NLMSG_DONE = 3;
export const NLM_F_MULTI = 0x2;
export const NLM_F_DUMP_INTR = 0x10;
export const NLM_F_DUMP = 0x300; // NLM_F_ROOT | NLM_F_MATCH
export const NLM_F_REQUEST = 0x1;
export const NLM_F_ACK = 0x4;
export const NLM_F_ACK_TLVS = 0x200; // on a reply: extended-ACK attributes follow
export const NLM_F_APPEND = 0x800;
export const NLM_F_CREATE = 0x400;
export const NLMSGERR_ATTR_MSG = 1;
export const NETLINK_NETFILTER = 12;
export const SOL_NETLINK = 270;
export const NETLINK_CAP_ACK = 10;
export const NETLINK_EXT_ACK = 11;

// <asm-generic/socket.h> (x86_64, arm64 alike)
export const SOL_SOCKET = 1;
export const SO_SNDBUFFORCE = 32;
export const SO_RCVBUFFORCE = 33;
export const SO_RCVTIMEO = 20; // SO_RCVTIMEO_OLD: struct timeval of two longs

// <linux/netfilter/nfnetlink.h>
export const NFNL_SUBSYS_NFTABLES = 10;

// <linux/netfilter.h>
export const NFPROTO_UNSPEC = 0;
export const NFPROTO_INET = 1;
export const NFPROTO_IPV4 = 2;
export const NFPROTO_IPV6 = 10;
export const NF_DROP = 0;
export const NF_ACCEPT = 1;
export const NFPROTO_NETDEV = 5;

// <linux/netfilter/nf_nat.h>
export const NF_NAT_RANGE_PROTO_SPECIFIED = 0x2;

// <linux/netfilter/nf_tables.h>
/** The verdict code of a jump (enum nft_verdicts), as the u32 libnftnl takes. */
export const NFT_JUMP = -3 >>> 0;
export const NFT_MSG_NEWRULE = 6;
export const NFT_MSG_DELRULE = 8;
export const NFT_MSG_NEWSETELEM = 12;
export const NFT_MSG_GETSETELEM = 13;
export const NFT_MSG_NEWGEN = 15;
export const NFT_MSG_GETGEN = 16;
export const NFT_MSG_NEWOBJ = 18;
export const NFT_MSG_GETOBJ = 19;
export const NFTA_OBJ_TABLE = 1;
export const NFTA_OBJ_NAME = 2;
export const NFTA_OBJ_TYPE = 3;
export const NFTA_OBJ_DATA = 4;
export const NFTA_GEN_ID = 1;
export const NFTA_LIST_ELEM = 1;
export const NFTA_SET_ELEM_LIST_TABLE = 1;
export const NFTA_SET_ELEM_LIST_SET = 2;
export const NFTA_SET_ELEM_LIST_ELEMENTS = 3;
export const NFTA_SET_ELEM_KEY = 1;
export const NFTA_SET_ELEM_FLAGS = 3;
export const NFTA_SET_ELEM_EXPR = 7;
export const NFTA_SET_ELEM_KEY_END = 10;
export const NFTA_SET_ELEM_EXPRESSIONS = 11;
export const NFT_SET_ELEM_INTERVAL_END = 0x1;
export const NFT_SET_ELEM_CATCHALL = 0x2;
export const NFTA_DATA_VALUE = 1;
export const NFTA_EXPR_NAME = 1;
export const NFTA_EXPR_DATA = 2;
export const NFTA_COUNTER_BYTES = 1;
export const NFTA_COUNTER_PACKETS = 2;
export const NFT_REG_VERDICT = 0;
export const NFT_REG_1 = 1;
export const NFT_REG32_00 = 8;
export const NFT_CMP_EQ = 0;
export const NFT_CMP_LTE = 3;
export const NFT_CMP_GTE = 5;
export const NFT_BYTEORDER_HTON = 1;
export const NFT_PAYLOAD_NETWORK_HEADER = 1;
export const NFT_PAYLOAD_TRANSPORT_HEADER = 2;
export const NFT_META_NFPROTO = 15;
export const NFT_META_L4PROTO = 16;
export const NFT_CT_MARK = 3;
export const NFT_NAT_DNAT = 1;
export const NFT_NG_INCREMENTAL = 0;
export const NFT_NG_RANDOM = 1;
export const NFT_HASH_JENKINS = 0;
export const NFT_HASH_SYM = 1;
export const NFT_OBJECT_COUNTER = 1;

// <netinet/in.h>
export const IPPROTO = { tcp: 6, udp: 17, sctp: 132 } as const;

// libnftnl 1.2.4 include/libnftnl/rule.h, enum nftnl_rule_attr
export const NFTNL_RULE_FAMILY = 0;
export const NFTNL_RULE_TABLE = 1;
export const NFTNL_RULE_CHAIN = 2;

// libnftnl 1.2.4 include/libnftnl/expr.h: every expression's attributes start at NFTNL_EXPR_BASE.
const NFTNL_EXPR_BASE = 1;
export const NFTNL_EXPR_PAYLOAD_DREG = NFTNL_EXPR_BASE + 0;
export const NFTNL_EXPR_PAYLOAD_BASE = NFTNL_EXPR_BASE + 1;
export const NFTNL_EXPR_PAYLOAD_OFFSET = NFTNL_EXPR_BASE + 2;
export const NFTNL_EXPR_PAYLOAD_LEN = NFTNL_EXPR_BASE + 3;
export const NFTNL_EXPR_NG_DREG = NFTNL_EXPR_BASE + 0;
export const NFTNL_EXPR_NG_MODULUS = NFTNL_EXPR_BASE + 1;
export const NFTNL_EXPR_NG_TYPE = NFTNL_EXPR_BASE + 2;
export const NFTNL_EXPR_NG_OFFSET = NFTNL_EXPR_BASE + 3;
export const NFTNL_EXPR_META_KEY = NFTNL_EXPR_BASE + 0;
export const NFTNL_EXPR_META_DREG = NFTNL_EXPR_BASE + 1;
export const NFTNL_EXPR_CMP_SREG = NFTNL_EXPR_BASE + 0;
export const NFTNL_EXPR_CMP_OP = NFTNL_EXPR_BASE + 1;
export const NFTNL_EXPR_CMP_DATA = NFTNL_EXPR_BASE + 2;
export const NFTNL_EXPR_IMM_DREG = NFTNL_EXPR_BASE + 0;
export const NFTNL_EXPR_IMM_DATA = NFTNL_EXPR_BASE + 1;
export const NFTNL_EXPR_IMM_VERDICT = NFTNL_EXPR_BASE + 2;
export const NFTNL_EXPR_IMM_CHAIN = NFTNL_EXPR_BASE + 3;
export const NFTNL_EXPR_NAT_TYPE = NFTNL_EXPR_BASE + 0;
export const NFTNL_EXPR_NAT_FAMILY = NFTNL_EXPR_BASE + 1;
export const NFTNL_EXPR_NAT_REG_ADDR_MIN = NFTNL_EXPR_BASE + 2;
export const NFTNL_EXPR_NAT_REG_PROTO_MIN = NFTNL_EXPR_BASE + 4;
export const NFTNL_EXPR_NAT_FLAGS = NFTNL_EXPR_BASE + 6;
export const NFTNL_EXPR_CT_DREG = NFTNL_EXPR_BASE + 0;
export const NFTNL_EXPR_CT_KEY = NFTNL_EXPR_BASE + 1;
export const NFTNL_EXPR_CT_SREG = NFTNL_EXPR_BASE + 3;
export const NFTNL_EXPR_BYTEORDER_DREG = NFTNL_EXPR_BASE + 0;
export const NFTNL_EXPR_BYTEORDER_SREG = NFTNL_EXPR_BASE + 1;
export const NFTNL_EXPR_BYTEORDER_OP = NFTNL_EXPR_BASE + 2;
export const NFTNL_EXPR_BYTEORDER_LEN = NFTNL_EXPR_BASE + 3;
export const NFTNL_EXPR_BYTEORDER_SIZE = NFTNL_EXPR_BASE + 4;
export const NFTNL_EXPR_HASH_SREG = NFTNL_EXPR_BASE + 0;
export const NFTNL_EXPR_HASH_DREG = NFTNL_EXPR_BASE + 1;
export const NFTNL_EXPR_HASH_LEN = NFTNL_EXPR_BASE + 2;
export const NFTNL_EXPR_HASH_MODULUS = NFTNL_EXPR_BASE + 3;
export const NFTNL_EXPR_HASH_SEED = NFTNL_EXPR_BASE + 4;
export const NFTNL_EXPR_HASH_OFFSET = NFTNL_EXPR_BASE + 5;
export const NFTNL_EXPR_HASH_TYPE = NFTNL_EXPR_BASE + 6;
export const NFTNL_EXPR_OBJREF_IMM_TYPE = NFTNL_EXPR_BASE + 0;
export const NFTNL_EXPR_OBJREF_IMM_NAME = NFTNL_EXPR_BASE + 1;
export const NFTNL_EXPR_CT_DIR = NFTNL_EXPR_BASE + 2;
export const NFTNL_EXPR_LOOKUP_SREG = NFTNL_EXPR_BASE + 0;
export const NFTNL_EXPR_LOOKUP_DREG = NFTNL_EXPR_BASE + 1;
export const NFTNL_EXPR_LOOKUP_SET = NFTNL_EXPR_BASE + 2;
export const NFTNL_EXPR_LOOKUP_SET_ID = NFTNL_EXPR_BASE + 3;
export const NFTNL_EXPR_BITWISE_SREG = NFTNL_EXPR_BASE + 0;
export const NFTNL_EXPR_BITWISE_DREG = NFTNL_EXPR_BASE + 1;
export const NFTNL_EXPR_BITWISE_LEN = NFTNL_EXPR_BASE + 2;
export const NFTNL_EXPR_BITWISE_MASK = NFTNL_EXPR_BASE + 3;
export const NFTNL_EXPR_BITWISE_XOR = NFTNL_EXPR_BASE + 4;
export const NFTNL_EXPR_BITWISE_OP = NFTNL_EXPR_BASE + 5;

// <linux/netfilter/nfnetlink.h>, <linux/netfilter/nf_tables.h>: what the full replace
// (replace.ts) encodes itself, attribute by attribute.
export const NFNL_MSG_BATCH_BEGIN = 16;
export const NFNL_MSG_BATCH_END = 17;
export const NFT_MSG_NEWTABLE = 0;
export const NFT_MSG_DELTABLE = 2;
export const NFT_MSG_NEWCHAIN = 3;
export const NFT_MSG_NEWSET = 9;
export const NFTA_TABLE_NAME = 1;
export const NFTA_TABLE_FLAGS = 2;
export const NFTA_CHAIN_TABLE = 1;
export const NFTA_CHAIN_NAME = 3;
export const NFTA_CHAIN_HOOK = 4;
export const NFTA_CHAIN_POLICY = 5;
export const NFTA_CHAIN_TYPE = 7;
export const NFTA_HOOK_HOOKNUM = 1;
export const NFTA_HOOK_PRIORITY = 2;
export const NFTA_SET_TABLE = 1;
export const NFTA_SET_NAME = 2;
export const NFTA_SET_FLAGS = 3;
export const NFTA_SET_KEY_TYPE = 4;
export const NFTA_SET_KEY_LEN = 5;
export const NFTA_SET_DATA_TYPE = 6;
export const NFTA_SET_DATA_LEN = 7;
export const NFTA_SET_DESC = 9;
export const NFTA_SET_ID = 10;
export const NFTA_SET_USERDATA = 13;
export const NFTA_SET_EXPR = 17;
export const NFTA_SET_DESC_CONCAT = 2;
export const NFTA_SET_FIELD_LEN = 1;
export const NFT_SET_INTERVAL = 0x4;
export const NFT_SET_MAP = 0x8;
export const NFT_SET_CONCAT = 0x80;
export const NFT_DATA_VERDICT = 0xffff_ff00;
export const NFTA_SET_ELEM_LIST_SET_ID = 4;
export const NFTA_SET_ELEM_DATA = 2;
export const NFTA_DATA_VERDICT = 2;
export const NFTA_VERDICT_CODE = 1;
export const NFTA_VERDICT_CHAIN = 2;
/** enum nft_verdicts as the u32 on the wire. */
export const NFT_GOTO = -4 >>> 0;
export const NFTA_RULE_TABLE = 1;
export const NFTA_RULE_CHAIN = 2;
export const NFTA_RULE_EXPRESSIONS = 4;
export const NF_INET_HOOKS: Record<string, number> = { prerouting: 0, input: 1, forward: 2, output: 3, postrouting: 4 };
/** Each expression's attributes (NFTA_<EXPR>_*), the kernel's numbering. */
export const NFTA_IMMEDIATE = { DREG: 1, DATA: 2 } as const;
export const NFTA_CMP = { SREG: 1, OP: 2, DATA: 3 } as const;
export const NFTA_META = { DREG: 1, KEY: 2 } as const;
export const NFTA_CT = { DREG: 1, KEY: 2, DIRECTION: 3, SREG: 4 } as const;
export const NFTA_PAYLOAD = { DREG: 1, BASE: 2, OFFSET: 3, LEN: 4 } as const;
export const NFTA_BYTEORDER = { SREG: 1, DREG: 2, OP: 3, LEN: 4, SIZE: 5 } as const;
export const NFTA_NG = { DREG: 1, MODULUS: 2, TYPE: 3, OFFSET: 4 } as const;
export const NFTA_HASH = { SREG: 1, DREG: 2, LEN: 3, MODULUS: 4, SEED: 5, OFFSET: 6, TYPE: 7 } as const;
export const NFTA_OBJREF = { IMM_TYPE: 1, IMM_NAME: 2 } as const;
export const NFTA_NAT = { TYPE: 1, FAMILY: 2, REG_ADDR_MIN: 3, REG_PROTO_MIN: 5, FLAGS: 7 } as const;
export const NFTA_LOOKUP = { SET: 1, SREG: 2, DREG: 3, SET_ID: 4 } as const;
export const NFTA_BITWISE = { SREG: 1, DREG: 2, LEN: 3, MASK: 4, XOR: 5, OP: 6 } as const;
export const NFT_BITWISE_BOOL = 0;
export const NFT_CT_STATUS = 2;
export const NFT_CT_PROTOCOL = 10;
export const NFT_CT_PROTO_SRC = 11;
export const NFT_CT_PROTO_DST = 12;
export const NFT_CT_SRC_IP = 19;
export const NFT_CT_DST_IP = 20;
export const NFT_CT_SRC_IP6 = 21;
export const NFT_CT_DST_IP6 = 22;
export const IP_CT_DIR_ORIGINAL = 0;
export const IP_CT_DIR_REPLY = 1;
/** <linux/netfilter/nf_conntrack_common.h> IPS_DST_NAT: `ct status dnat`. */
export const IPS_DST_NAT = 0x20;
