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
